import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module';
import { ContactNotificationWorker } from './contact-notification.worker';
import { ContactMapper } from './contact.mapper';
import { ContactPolicy } from './contact.policy';
import { ContactRepository } from './contact.repository';
import { ContactsController } from './contacts.controller';
import { ContactsService } from './contacts.service';

@Module({
  imports: [DeliveryModule],
  controllers: [ContactsController],
  providers: [ContactsService, ContactRepository, ContactMapper, ContactPolicy, ContactNotificationWorker],
})
export class ContactsModule {}
