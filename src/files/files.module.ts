import { Module } from '@nestjs/common';
import { FileMapper } from './file.mapper';
import { FilePolicy } from './file.policy';
import { FileRepository } from './file.repository';
import { FilesController } from './files.controller';
import { FilesService } from './files.service';

@Module({
  controllers: [FilesController],
  providers: [FilesService, FileRepository, FileMapper, FilePolicy],
  exports: [FilesService],
})
export class FilesModule {}
