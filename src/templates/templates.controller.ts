import { Controller, Get, Header, Param, ParseEnumPipe, Query } from '@nestjs/common';
import { ApiProduces, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../common/errors/api-error';
import { MailCategory } from '../catalog/mail-category';
import { PreviewQueryDto } from './dto/preview-query.dto';
import { TemplateListDto } from './dto/template.dto';
import { TemplatesService } from './templates.service';

const categoryPipe = new ParseEnumPipe(MailCategory, { exceptionFactory: () => new ApiError('RESOURCE_NOT_FOUND', 'There is no template for this category.') });

@ApiTags('templates')
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  /** List the mail categories with what each requires and the page its button opens. */
  @Get()
  list(): TemplateListDto {
    return this.templates.list();
  }

  /** Render a category's mail with sample data, as the receiver would see it. */
  @Get(':category/preview')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiProduces('text/html')
  preview(@Param('category', categoryPipe) category: MailCategory, @Query() query: PreviewQueryDto): string {
    return this.templates.previewHtml(category, query.locale);
  }
}
